import { useMantineTheme } from '@mantine/core';
import { useMediaQuery } from '@mantine/hooks';

/**
 * Whether the viewport is at least Mantine's `sm` breakpoint: lists render tables there and cards
 * below it. Read synchronously on mount, so a phone never renders the table first.
 */
export function useWide(): boolean {
  const theme = useMantineTheme();
  return useMediaQuery(`(min-width: ${theme.breakpoints.sm})`, true, {
    getInitialValueInEffect: false,
  });
}
