import { Alert, Button, Paper, PasswordInput, Stack } from '@mantine/core';
import { useState } from 'react';
import { useSetPassword } from '../../api/directory-queries';
import { useNewPassword } from '../../components/NewPassword';
import { FormError, SettingsTitle } from './common';

/** `/settings/password`: every signed-in user changes their own password. */
export function PasswordPage() {
  const change = useSetPassword();
  const [current, setCurrent] = useState('');
  const password = useNewPassword('The two new passwords differ.');
  return (
    <Stack maw={480}>
      <SettingsTitle title="Change password" />
      <Paper withBorder p="md">
        <form
          onSubmit={(event) => {
            event.preventDefault();
            change.reset();
            if (!password.confirmed()) return;
            change.mutate(
              { currentPassword: current, newPassword: password.value },
              {
                onSuccess: () => {
                  setCurrent('');
                  password.clear();
                },
              },
            );
          }}
        >
          <Stack>
            <PasswordInput
              label="Current password"
              autoComplete="current-password"
              required
              value={current}
              onChange={(e) => setCurrent(e.currentTarget.value)}
            />
            {password.fields}
            <FormError error={change.error} />
            {change.isSuccess && (
              <Alert color="green" role="status" data-testid="password-changed">
                Your password is changed. Use it the next time you sign in.
              </Alert>
            )}
            <Button type="submit" loading={change.isPending}>
              Change password
            </Button>
          </Stack>
        </form>
      </Paper>
    </Stack>
  );
}
