import { type CSSVariablesResolver, createTheme } from '@mantine/core';

/** Light and dark follow the system (MantineProvider defaultColorScheme="auto"). */
export const theme = createTheme({
  primaryColor: 'indigo',
  // Darker in light mode so links and buttons keep a 4.5:1 contrast on white.
  primaryShade: { light: 8, dark: 4 },
  defaultRadius: 'md',
  fontFamily: 'system-ui, -apple-system, "Segoe UI", Roboto, sans-serif',
});

/** Secondary ("dimmed") text one shade darker in light mode, for a 4.5:1 contrast on white. */
export const cssVariablesResolver: CSSVariablesResolver = () => ({
  variables: {},
  light: { '--mantine-color-dimmed': 'var(--mantine-color-gray-7)' },
  dark: {},
});
