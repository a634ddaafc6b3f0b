import { MultiSelect, Radio, Stack } from '@mantine/core';
import type { WorkspaceAccess } from '../app/workspace';

/** Which tenants a fleet runs on: every active one, or those chosen (by slug). */
export interface FleetTargetValues {
  all: boolean;
  slugs: string[];
}

export const ALL_ACTIVE: FleetTargetValues = { all: true, slugs: [] };

/**
 * The tenant picker of "Run for all tenants…". A member restricted to some tenants names them:
 * "all" would include tenants that are not theirs. Inactive tenants are shown and not choosable,
 * as the server skips them.
 */
export function FleetTargets({
  workspace,
  values,
  error,
  onChange,
}: {
  workspace: WorkspaceAccess;
  values: FleetTargetValues;
  error: string | null | undefined;
  onChange: (values: FleetTargetValues) => void;
}) {
  const all = values.all && !workspace.restricted;
  const active = workspace.tenants.filter((t) => t.status === 'active').length;
  return (
    <Stack gap="xs" data-testid="fleet-targets">
      {!workspace.restricted && (
        <Radio.Group
          label="Tenants"
          value={all ? 'all' : 'chosen'}
          onChange={(v) => onChange({ ...values, all: v === 'all' })}
        >
          <Stack gap={6} mt={4}>
            <Radio value="all" label={`All active tenants (${active})`} />
            <Radio value="chosen" label="Choose tenants" />
          </Stack>
        </Radio.Group>
      )}
      {!all && (
        <MultiSelect
          label="Tenants to run on"
          placeholder={values.slugs.length ? undefined : 'Choose tenants'}
          searchable
          clearable
          error={error}
          value={values.slugs}
          data={workspace.tenants.map((t) => ({
            value: t.slug,
            label: t.status === 'active' ? t.name : `${t.name} (inactive)`,
            disabled: t.status !== 'active',
          }))}
          onChange={(slugs) => onChange({ ...values, slugs })}
        />
      )}
    </Stack>
  );
}
