import '@mantine/core/styles.css';
import '@mantine/notifications/styles.css';
import '@mantine/charts/styles.css';
import { MantineProvider } from '@mantine/core';
import { QueryCache, QueryClient, QueryClientProvider } from '@tanstack/react-query';
import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { createBrowserRouter, RouterProvider } from 'react-router';
import { basePath } from './api/base';
import { ApiError } from './api/client';
import { router as rootRouter } from './app/router';
import { cssVariablesResolver, theme } from './app/theme';

// A 401 from any read means the session (or, embedded, the host's) has ended: forget who was
// signed in, so the shell sends the browser to sign in again instead of showing errors.
const queryClient: QueryClient = new QueryClient({
  defaultOptions: { queries: { refetchOnWindowFocus: true, staleTime: 5_000 } },
  queryCache: new QueryCache({
    onError: (error, query) => {
      if (error instanceof ApiError && error.status === 401 && query.queryKey[0] !== 'me')
        queryClient.setQueryData(['me'], null);
    },
  }),
});

// Mounted under a prefix in a host's server (DESIGN §15): the same routes under that basename.
const router = basePath
  ? createBrowserRouter(rootRouter.routes, { basename: basePath })
  : rootRouter;
if (router !== rootRouter) rootRouter.dispose();

const root = document.getElementById('root');
if (!root) throw new Error('index.html has no #root');
createRoot(root).render(
  <StrictMode>
    <MantineProvider
      theme={theme}
      defaultColorScheme="auto"
      cssVariablesResolver={cssVariablesResolver}
    >
      <QueryClientProvider client={queryClient}>
        <RouterProvider router={router} />
      </QueryClientProvider>
    </MantineProvider>
  </StrictMode>,
);
