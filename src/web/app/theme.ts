import { createTheme } from '@mantine/core';

/** Light and dark follow the system (MantineProvider defaultColorScheme="auto"). */
export const theme = createTheme({
  primaryColor: 'indigo',
  defaultRadius: 'md',
  fontFamily: 'system-ui, -apple-system, "Segoe UI", Roboto, sans-serif',
});
