/** The one registry of roles → capabilities (DESIGN §10). */
export const CAPABILITIES = [
  'operations.view',
  'operations.start',
  'operations.cancel',
  'workspace.manage',
  'tokens.manage',
] as const;
export type Capability = (typeof CAPABILITIES)[number];

/** `platform.directory`: create workspaces and manage any workspace's tenants and members (DESIGN §10). */
export const PLATFORM_CAPABILITIES = [
  'system.ops.view',
  'system.ops.triage',
  'platform.directory',
] as const;
export type PlatformCapability = (typeof PLATFORM_CAPABILITIES)[number];

export const ROLES = ['owner', 'manager', 'operator', 'readonly'] as const;
export type RoleName = (typeof ROLES)[number];

/** Whether `a` has more rights than `b` (ROLES is ordered from most to least). */
export function outranks(a: RoleName, b: RoleName): boolean {
  return ROLES.indexOf(a) < ROLES.indexOf(b);
}

const ROLE_CAPABILITIES: Record<RoleName, readonly Capability[]> = {
  owner: CAPABILITIES,
  manager: ['operations.view', 'operations.start', 'operations.cancel'],
  operator: ['operations.view', 'operations.start'],
  readonly: ['operations.view'],
};

export function roleCan(role: RoleName, capability: Capability): boolean {
  return ROLE_CAPABILITIES[role].includes(capability);
}

export function roleCapabilities(role: RoleName): readonly Capability[] {
  return ROLE_CAPABILITIES[role];
}
