import { MultiSelect, Select } from '@mantine/core';
import { ROLE_OPTIONS, type Role, type Tenant } from '../../api/directory-queries';

/** Role of a member or a token. */
export function RoleSelect({
  value,
  onChange,
  label = 'Role',
}: {
  value: Role;
  onChange: (role: Role) => void;
  label?: string;
}) {
  return (
    <Select
      label={label}
      data={ROLE_OPTIONS}
      value={value}
      onChange={(next) => next && onChange(next as Role)}
      allowDeselect={false}
    />
  );
}

/** Tenant restriction: none chosen means every tenant of the workspace (`tenantIds: null`). */
export function TenantRestriction({
  tenants,
  value,
  onChange,
}: {
  tenants: Tenant[];
  value: string[];
  onChange: (ids: string[]) => void;
}) {
  return (
    <MultiSelect
      label="Tenant restriction"
      description="Leave empty for access to every tenant."
      placeholder={value.length ? undefined : 'All tenants'}
      data={tenants.map((t) => ({ value: t.id, label: t.name }))}
      value={value}
      onChange={onChange}
      searchable
      clearable
    />
  );
}

export function restrictionLabel(tenantIds: string[] | null, tenants: Tenant[]): string {
  if (!tenantIds) return 'All tenants';
  if (!tenantIds.length) return 'No tenants';
  return tenantIds
    .map((id) => tenants.find((t) => t.id === id)?.name ?? 'Unknown tenant')
    .join(', ');
}

export function roleLabel(role: Role): string {
  return ROLE_OPTIONS.find((r) => r.value === role)?.label ?? role;
}
