import { Badge, Button, Code, Group, Loader, Stack } from '@mantine/core';
import { type Tenant, useTenants, useUpsertTenant } from '../../api/directory-queries';
import { ConfirmAction } from '../../components/ConfirmAction';
import { NotFoundPage } from '../NotFoundPage';
import { FormError, isDenied, SettingsTitle, useManagedWorkspace } from './common';
import { DataList } from './DataList';
import { TenantAddForm, TenantRename } from './TenantForms';

/** `/settings/w/:workspace/tenants`: the managed environments of a workspace (workspace.manage). */
export function TenantsPage() {
  const workspace = useManagedWorkspace('workspace.manage');
  if (!workspace) return <NotFoundPage />;
  return <Tenants slug={workspace.slug} name={workspace.name} />;
}

function Tenants({ slug, name }: { slug: string; name: string }) {
  const tenants = useTenants(slug);
  if (isDenied(tenants.error)) return <NotFoundPage what="workspace" />;
  if (tenants.isPending) return <Loader aria-label="Loading" />;
  const items = tenants.data?.items ?? [];
  return (
    <Stack>
      <SettingsTitle title="Tenants" workspace={name} />
      <FormError error={tenants.error} />
      <TenantAddForm workspace={slug} tenants={items} />
      <DataList
        testId="tenants-table"
        minWidth={620}
        rows={items}
        rowKey={(t) => t.id}
        attrs={(t) => ({ 'data-tenant': t.slug })}
        columns={[
          { label: 'Name', cell: (t) => <span data-testid="tenant-name">{t.name}</span> },
          { label: 'Slug', cell: (t) => <Code>{t.slug}</Code> },
          {
            label: 'Status',
            cell: (t) => (
              <Badge
                color={t.status === 'active' ? 'green' : 'gray'}
                variant="light"
                data-testid="tenant-status"
              >
                {t.status === 'active' ? 'Active' : 'Inactive'}
              </Badge>
            ),
          },
          {
            label: 'Actions',
            cell: (t) => (
              <Group gap="xs" wrap="nowrap">
                <TenantRename workspace={slug} tenant={t} />
                <StatusToggle workspace={slug} tenant={t} />
              </Group>
            ),
          },
        ]}
      />
    </Stack>
  );
}

/** Deactivating blocks work, so it asks first; activating again does not. */
function StatusToggle({ workspace, tenant }: { workspace: string; tenant: Tenant }) {
  const upsert = useUpsertTenant(workspace);
  if (tenant.status === 'active') {
    return (
      <ConfirmAction
        label="Deactivate"
        ariaLabel={`Deactivate ${tenant.slug}`}
        question={`Deactivate ${tenant.name}? Its new and queued runs will be blocked until it is activated again.`}
        onConfirm={() =>
          upsert.mutateAsync({ slug: tenant.slug, name: tenant.name, status: 'inactive' })
        }
      />
    );
  }
  return (
    <Stack gap={4}>
      <Button
        variant="light"
        color="green"
        size="xs"
        aria-label={`Activate ${tenant.slug}`}
        loading={upsert.isPending}
        onClick={() => upsert.mutate({ slug: tenant.slug, name: tenant.name, status: 'active' })}
      >
        Activate
      </Button>
      <FormError error={upsert.error} />
    </Stack>
  );
}
