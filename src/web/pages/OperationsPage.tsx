import { Anchor, Button, Group, Select, Stack, Tabs, Text, Title } from '@mantine/core';
import { useState } from 'react';
import { useSearchParams } from 'react-router';
import { bulkFilterOf } from '../api/bulk-filter';
import type { BulkVerb } from '../api/bulk-queries';
import { ApiError } from '../api/client';
import {
  apiQuery,
  BUCKET_LABELS,
  filtersFromSearch,
  LIST_BUCKETS,
  RANGES,
  type RunFilters,
} from '../api/filters';
import { refusalText } from '../api/flow-queries';
import { useBucketCounts, useOperationTypes, useRunPages } from '../api/queries';
import type { ListBucket } from '../api/types';
import { can, useShell } from '../app/workspace';
import { BulkBar } from '../components/BulkBar';
import { BulkConfirm } from '../components/BulkConfirm';
import { PauseBanners, PauseButton, type PauseView } from '../components/PauseControls';
import { RunCharts } from '../components/RunCharts';
import { RunSearchBox } from '../components/RunSearchBox';
import { RunTable } from '../components/RunTable';
import { StartButton } from '../components/StartDialog';
import { endedWindowLabel } from '../components/time';
import { useRunSelection } from '../components/useRunSelection';
import { NotFoundPage } from './NotFoundPage';

/** `/admin/operations`: buckets with counts, filters in the URL, keyset paging, live rows. */
export function OperationsPage() {
  const { me, workspace } = useShell();
  const [search, setSearch] = useSearchParams();
  const types = useOperationTypes();
  const filters = filtersFromSearch(search, workspace?.slug ?? '');
  const tenant = workspace?.tenants.find(
    (t) => t.slug === filters.tenant || t.id === filters.tenant,
  );
  // The window is fixed per filter change, so paging and counts agree on it.
  const query = apiQuery(filters, tenant?.id, startOfMinute());
  const pages = useRunPages(filters.ws, { ...query, bucket: filters.bucket });
  const counts = useBucketCounts(filters.ws, query);
  const runs = pages.data?.pages.flatMap((p) => p.items) ?? [];
  const selection = useRunSelection(
    JSON.stringify(filters),
    runs.map((r) => r.id),
  );
  const [bulk, setBulk] = useState<BulkVerb | null>(null);

  if (!workspace) return <NotFoundPage what="workspace" />;
  const update = (patch: Partial<RunFilters>) => {
    const next = { ...filters, ...patch };
    const params = new URLSearchParams();
    for (const [key, value] of Object.entries(next)) if (value) params.set(key, value);
    setSearch(params);
  };
  const count = (bucket: ListBucket) => {
    const n = counts.data?.counts[bucket];
    if (n === undefined) return '';
    return n >= (counts.data?.cap ?? Number.POSITIVE_INFINITY)
      ? `${n.toLocaleString()}+`
      : n.toLocaleString();
  };
  const canCancel = can(workspace, 'operations.cancel');
  const canRetry = can(workspace, 'operations.start');
  const bulkTarget = selection.allMatching
    ? { filter: bulkFilterOf(query, filters.bucket, me.user.id) }
    : { ids: selection.ids };
  // A search the server refuses (a malformed id) is said under the field, not as a failed page.
  const searchError =
    filters.search && pages.error instanceof ApiError && pages.error.status === 400
      ? refusalText(pages.error)
      : undefined;
  // The "type view": the list filtered to one type (of ours: an external type runs elsewhere).
  const type = types.data?.find((t) => t.type === filters.type && t.execution === 'queue');
  const pauseView: PauseView | undefined = type && {
    workspace,
    type,
    ...(tenant ? { tenant } : {}),
  };

  return (
    <Stack>
      <Group justify="space-between">
        <Title order={1} size="h2">
          Operations
        </Title>
        <Group gap="xs">
          {pauseView && <PauseButton view={pauseView} />}
          {can(workspace, 'operations.start') && <StartButton workspace={workspace} />}
        </Group>
      </Group>
      {pauseView && <PauseBanners view={pauseView} />}
      <RunSearchBox
        value={filters.search}
        error={searchError}
        onSearch={(text) => update({ search: text })}
      />
      <Tabs
        value={filters.bucket}
        onChange={(value) => value && update({ bucket: value as ListBucket })}
      >
        <Tabs.List>
          {LIST_BUCKETS.map((bucket) => (
            <Tabs.Tab key={bucket} value={bucket} data-testid={`bucket-${bucket}`}>
              {BUCKET_LABELS[bucket]}{' '}
              {count(bucket) && (
                <Text span c="dimmed" size="sm">
                  ({count(bucket)})
                </Text>
              )}
            </Tabs.Tab>
          ))}
        </Tabs.List>
      </Tabs>
      <Group gap="sm" align="end">
        <Select
          label="Type"
          placeholder="Any type"
          clearable
          searchable
          w={220}
          value={filters.type ?? null}
          data={(types.data ?? []).map((t) => ({ value: t.type, label: t.label }))}
          onChange={(type) => update({ type: type ?? undefined })}
        />
        <Select
          label="Tenant"
          placeholder="Any tenant"
          clearable
          w={220}
          value={tenant?.slug ?? null}
          data={workspace.tenants.map((t) => ({ value: t.slug, label: t.name }))}
          onChange={(slug) => update({ tenant: slug ?? undefined })}
        />
        <Select
          label="Started by"
          w={160}
          value={filters.initiator ?? 'anyone'}
          data={[
            { value: 'anyone', label: 'Anyone' },
            { value: 'me', label: 'Me' },
          ]}
          onChange={(v) => update({ initiator: v === 'me' ? 'me' : undefined })}
          allowDeselect={false}
        />
        <Select
          label="Time range"
          w={180}
          value={filters.range}
          data={Object.entries(RANGES).map(([value, r]) => ({ value, label: r.label }))}
          onChange={(range) => range && update({ range })}
          allowDeselect={false}
        />
      </Group>
      <Text size="sm" c="dimmed" data-testid="showing">
        Showing: {BUCKET_LABELS[filters.bucket]}
        {tenant ? ` · ${tenant.name}` : ''} ·{' '}
        {filters.endedFrom && filters.endedTo ? (
          <>
            ended {endedWindowLabel(filters.endedFrom, filters.endedTo)}{' '}
            <Anchor
              component="button"
              size="sm"
              underline="always"
              onClick={() => update({ endedFrom: undefined, endedTo: undefined })}
              data-testid="clear-ended"
            >
              (show {RANGES[filters.range]?.label.toLowerCase()})
            </Anchor>
          </>
        ) : (
          RANGES[filters.range]?.label
        )}
        {filters.search ? ` · matching “${filters.search}”` : ''}
      </Text>
      {searchError ? (
        <Text c="dimmed" size="sm" data-testid="empty-list">
          No runs shown until the search is corrected.
        </Text>
      ) : pages.isPending ? (
        <Text size="sm">Loading…</Text>
      ) : pages.isError ? (
        <Text c="red">{pages.error.message}</Text>
      ) : (
        <>
          <BulkBar
            selection={selection}
            matching={count(filters.bucket)}
            canCancel={canCancel}
            canRetry={canRetry}
            onAction={setBulk}
          />
          <RunTable
            runs={runs}
            workspace={workspace}
            empty="No runs match these filters."
            {...(canCancel || canRetry ? { selection } : {})}
          />
        </>
      )}
      <BulkConfirm
        ws={filters.ws}
        action={bulk}
        target={bulkTarget}
        onClose={() => setBulk(null)}
        onDone={() => {
          setBulk(null);
          selection.clear();
        }}
      />
      {pages.hasNextPage && (
        <Button
          variant="default"
          onClick={() => pages.fetchNextPage()}
          loading={pages.isFetchingNextPage}
        >
          Load more
        </Button>
      )}
      {/* A type's view (DESIGN §18): its runs over time, below its list. */}
      {filters.type && (
        <RunCharts
          ws={filters.ws}
          tenant={tenant && { id: tenant.id, slug: tenant.slug }}
          type={filters.type}
        />
      )}
    </Stack>
  );
}

function startOfMinute(): number {
  return Math.floor(Date.now() / 60_000) * 60_000;
}
