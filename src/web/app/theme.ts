import { type CSSVariablesResolver, createTheme, Modal, Notification } from '@mantine/core';

/** Light and dark follow the system (MantineProvider defaultColorScheme="auto"). */
export const theme = createTheme({
  primaryColor: 'indigo',
  // The shade of every filled colour (buttons, badges): dark enough for 4.5:1 against its text
  // in either scheme (Mantine's dark default, 4, gave white text 3:1).
  primaryShade: { light: 8, dark: 8 },
  defaultRadius: 'md',
  // autoContrast picks dark text over a filled colour above this luminance: 0.18 is where dark
  // text starts to contrast more than white, so a filled green badge reads at 4.5:1 or more.
  luminanceThreshold: 0.18,
  fontFamily: 'system-ui, -apple-system, "Segoe UI", Roboto, sans-serif',
  components: {
    // Mantine's close button is an icon with no name of its own: screen readers need one.
    Modal: Modal.extend({ defaultProps: { closeButtonProps: { 'aria-label': 'Close' } } }),
    Notification: Notification.extend({
      defaultProps: { closeButtonProps: { 'aria-label': 'Close' } },
    }),
  },
});

// Light-variant text (badges, alerts, buttons on a tint) at 4.5:1 in light mode: the darkest shade
// of a deep hue; bright hues have none dark enough, so their text is near-black on their tint.
const DEEP = ['red', 'pink', 'grape', 'violet', 'indigo', 'blue', 'gray', 'dark'];
const BRIGHT = ['cyan', 'teal', 'green', 'lime', 'yellow', 'orange'];
const lightText = Object.fromEntries([
  ...DEEP.map((c) => [`--mantine-color-${c}-light-color`, `var(--mantine-color-${c}-9)`]),
  ...BRIGHT.map((c) => [`--mantine-color-${c}-light-color`, 'var(--mantine-color-gray-9)']),
]);

/**
 * Secondary ("dimmed") text a shade nearer the text colour, and a field's error (its message and
 * the refused value) a shade deeper than Mantine's, for a 4.5:1 contrast either way.
 */
export const cssVariablesResolver: CSSVariablesResolver = () => ({
  variables: {},
  light: {
    '--mantine-color-dimmed': 'var(--mantine-color-gray-7)',
    '--mantine-color-error': 'var(--mantine-color-red-9)',
    ...lightText,
  },
  dark: {
    '--mantine-color-dimmed': 'var(--mantine-color-dark-1)',
    '--mantine-color-error': 'var(--mantine-color-red-4)',
  },
});
