import { useQueryClient } from '@tanstack/react-query';
import { useEffect } from 'react';
import { basePath } from './base';
import { invalidateRunLists, patchRun } from './queries';
import type { RunView } from './types';

/**
 * One Server-Sent Events connection for the signed-in user. Each `run` event replaces that run
 * wherever it is shown at once, then lists, counts and summaries refetch (debounced) so buckets
 * re-sort; `resync` refetches everything. EventSource reconnects with Last-Event-ID by itself.
 */
export function useRunStream(enabled: boolean): void {
  const client = useQueryClient();
  useEffect(() => {
    if (!enabled) return;
    const source = new EventSource(`${basePath}/api/stream`);
    let timer: ReturnType<typeof setTimeout> | undefined;
    const refetchSoon = () => {
      clearTimeout(timer);
      timer = setTimeout(() => {
        void invalidateRunLists(client);
        void client.invalidateQueries({ queryKey: ['notifications'] });
        void client.invalidateQueries({ queryKey: ['run'] });
      }, 400);
    };
    source.addEventListener('run', (event) => {
      const { run } = JSON.parse((event as MessageEvent<string>).data) as { run: RunView };
      patchRun(client, run);
      refetchSoon();
    });
    source.addEventListener('resync', () => {
      void client.invalidateQueries();
    });
    return () => {
      clearTimeout(timer);
      source.close();
    };
  }, [client, enabled]);
}
