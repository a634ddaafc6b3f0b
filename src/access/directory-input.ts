import { z } from 'zod';
import { PLATFORM_CAPABILITIES, ROLES } from '../domain/capabilities.js';
import { RunwardenError } from '../domain/errors.js';

/** The host's keys (DESIGN §10): slugs are lower-case words joined by dashes; emails lower-cased. */
export const Slug = z
  .string()
  .trim()
  .regex(/^[a-z0-9](?:[a-z0-9-]{0,62}[a-z0-9])?$/, 'a slug is 1–64 of a-z, 0-9 and inner dashes');
/**
 * Whether lower-casing `raw` keeps every address distinct: no character outside ASCII that folds
 * into ASCII (the Kelvin sign `K` becomes `k`, `İ` becomes `i̇`), and nothing NFKC would rewrite
 * (full-width letters). Such an address would land on another person's account.
 */
export function foldsSafely(raw: string): boolean {
  if (raw.normalize('NFKC') !== raw) return false;
  for (const c of raw) {
    const folded = [...c.toLowerCase()];
    if (c.charCodeAt(0) > 0x7f && folded.some((f) => f.charCodeAt(0) <= 0x7f)) return false;
  }
  return true;
}
export const Email = z
  .string()
  .trim()
  .refine(foldsSafely, 'an email may not hold characters that turn into others when lower-cased')
  .toLowerCase()
  .pipe(z.email().max(254));
const Name = z.string().trim().min(1).max(200);
const ExternalId = z.string().trim().min(1).max(200);
export const TenantStatusInput = z.enum(['active', 'inactive']);
/** A tenant's share of flow-controlled execution against other tenants' (DESIGN §17). */
export const TenantWeight = z.number().int().min(1).max(1000);
export const RoleInput = z.enum(ROLES);
export const PlatformCapabilityInput = z.enum(PLATFORM_CAPABILITIES);

export const WorkspaceInput = z.strictObject({ slug: Slug, name: Name });
export const TenantInput = z.strictObject({
  workspace: z.union([Slug, z.uuid()]),
  slug: Slug,
  name: Name,
  status: TenantStatusInput.optional(),
  weight: TenantWeight.optional(),
});
/** A workspace by slug, or by id (the HTTP API's `:ws`). */
const WorkspaceRef = z.union([Slug, z.uuid()]);
export const MemberInput = z
  .strictObject({
    workspace: WorkspaceRef,
    email: Email,
    name: Name.optional(),
    role: RoleInput,
    /** Tenant slugs the member is restricted to; null: every tenant; absent: unchanged (all when new). */
    tenants: z.array(Slug).max(1000).nullable().optional(),
    /** The same restriction by tenant id (the HTTP API); give `tenants` or `tenantIds`, not both. */
    tenantIds: z.array(z.uuid()).max(1000).nullable().optional(),
    externalId: ExternalId.optional(),
  })
  .refine((m) => m.tenants === undefined || m.tenantIds === undefined, {
    message: 'give tenants (slugs) or tenantIds, not both',
    path: ['tenantIds'],
  });
export const RemoveMemberInput = z.union([
  z.strictObject({ workspace: WorkspaceRef, email: Email }),
  z.strictObject({ workspace: WorkspaceRef, userId: z.uuid() }),
]);
/** Accepting an offered membership: as a signed-in user, or creating the account. */
export const AcceptInput = z.union([
  z.strictObject({ token: z.string().min(1).max(200), userId: z.uuid() }),
  z.strictObject({ token: z.string().min(1).max(200), newPassword: z.string().min(8).max(1000) }),
]);
export const WorkspaceRefInput = z.strictObject({ workspace: WorkspaceRef });
export const PasswordChangeInput = z.strictObject({
  userId: z.uuid(),
  currentPassword: z.string().max(1000),
  newPassword: z.string().min(8).max(1000),
  /** The session the change was made from: it stays signed in; every other one of theirs ends. */
  keepSession: z.string().min(1).max(200).optional(),
});
export const UserRefInput = z.strictObject({ email: Email });
export const PlatformStaffInput = z.strictObject({
  email: Email,
  name: Name.optional(),
  capabilities: z.array(PlatformCapabilityInput).max(PLATFORM_CAPABILITIES.length),
});
export const BootstrapInput = z.strictObject({
  email: Email,
  name: Name.optional(),
  password: z.string().min(8).max(1000).optional(),
});
export const TokenCreateInput = z.strictObject({
  workspace: z.union([Slug, z.uuid()]),
  name: Name,
  role: RoleInput,
  /** The member a person token acts for; without it, a service token acting for the workspace. */
  as: Email.optional(),
});
export const TokenRevokeInput = z.strictObject({
  workspace: z.union([Slug, z.uuid()]),
  id: z.uuid(),
});

/** `directory.json` (DESIGN §13). */
export const DirectoryFile = z
  .strictObject({
    workspaces: z
      .array(
        z.strictObject({
          slug: Slug,
          name: Name,
          tenants: z
            .array(
              z.strictObject({
                slug: Slug,
                name: Name,
                status: TenantStatusInput.optional(),
                weight: TenantWeight.optional(),
              }),
            )
            .max(10_000)
            .default([]),
          members: z
            .array(
              z.strictObject({
                email: Email,
                name: Name.optional(),
                role: RoleInput,
                tenants: z.array(Slug).max(1000).nullable().optional(),
                externalId: ExternalId.optional(),
              }),
            )
            .max(10_000)
            .default([]),
        }),
      )
      .max(10_000)
      .default([]),
    platformStaff: z
      .array(
        z.strictObject({
          email: Email,
          name: Name.optional(),
          capabilities: z.array(PlatformCapabilityInput).max(PLATFORM_CAPABILITIES.length),
        }),
      )
      .max(10_000)
      .optional(),
  })
  .superRefine((file, ctx) => {
    const dup = (values: string[], path: (string | number)[], what: string) => {
      const seen = new Set<string>();
      values.forEach((value, i) => {
        if (seen.has(value))
          ctx.addIssue({
            code: 'custom',
            path: [...path, i],
            message: `${what} ${value} is listed twice`,
          });
        seen.add(value);
      });
    };
    dup(
      file.workspaces.map((w) => w.slug),
      ['workspaces'],
      'workspace',
    );
    file.workspaces.forEach((w, i) => {
      dup(
        w.tenants.map((t) => t.slug),
        ['workspaces', i, 'tenants'],
        'tenant',
      );
      dup(
        w.members.map((m) => m.email),
        ['workspaces', i, 'members'],
        'member',
      );
      const listed = new Set(w.tenants.map((t) => t.slug));
      w.members.forEach((m, j) => {
        for (const slug of m.tenants ?? [])
          if (!listed.has(slug))
            ctx.addIssue({
              code: 'custom',
              path: ['workspaces', i, 'members', j, 'tenants'],
              message: `tenant ${slug} is not listed in workspace ${w.slug}`,
            });
      });
    });
    dup(
      (file.platformStaff ?? []).map((s) => s.email),
      ['platformStaff'],
      'platform staff member',
    );
  });
export type DirectoryFileInput = z.input<typeof DirectoryFile>;
export type DirectoryFileData = z.output<typeof DirectoryFile>;

/** Parses `input` or throws `validation_failed` listing every problem (`details.problems`). */
export function parseInput<S extends z.ZodType>(
  schema: S,
  input: unknown,
  what: string,
): z.output<S> {
  const parsed = schema.safeParse(input);
  if (parsed.success) return parsed.data;
  const problems = parsed.error.issues.map(
    (issue) => `${issue.path.length ? issue.path.join('.') : '(root)'}: ${issue.message}`,
  );
  throw new RunwardenError(
    'validation_failed',
    `The ${what} is not valid: ${problems.join('; ')}`,
    {
      details: { problems },
    },
  );
}
