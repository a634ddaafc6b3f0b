import { Button, Modal, Stack } from '@mantine/core';
import { useDisclosure } from '@mantine/hooks';
import { useState } from 'react';
import { type Member, type Role, type Tenant, useUpsertMember } from '../../api/directory-queries';
import { DialogFooter } from './common';
import { RoleSelect, TenantRestriction } from './member-fields';

/** Changes a member's role and tenant restriction; a refusal (last owner) stays in the dialog. */
export function MemberEdit({
  workspace,
  member,
  tenants,
}: {
  workspace: string;
  member: Member;
  tenants: Tenant[];
}) {
  const [opened, { open, close }] = useDisclosure(false);
  const upsert = useUpsertMember(workspace);
  const [role, setRole] = useState<Role>(member.role);
  const [tenantIds, setTenantIds] = useState<string[]>(member.tenantIds ?? []);
  return (
    <>
      <Button
        variant="light"
        size="xs"
        aria-label={`Edit ${member.email}`}
        onClick={() => {
          setRole(member.role);
          setTenantIds(member.tenantIds ?? []);
          upsert.reset();
          open();
        }}
      >
        Edit
      </Button>
      <Modal opened={opened} onClose={close} title={`Edit ${member.email}`}>
        <form
          onSubmit={(event) => {
            event.preventDefault();
            upsert.mutate(
              { email: member.email, role, tenantIds: tenantIds.length ? tenantIds : null },
              { onSuccess: close },
            );
          }}
        >
          <Stack>
            <RoleSelect value={role} onChange={setRole} />
            <TenantRestriction tenants={tenants} value={tenantIds} onChange={setTenantIds} />
            <DialogFooter error={upsert.error} pending={upsert.isPending} onCancel={close} />
          </Stack>
        </form>
      </Modal>
    </>
  );
}
