import { Alert, Button, Paper, PasswordInput, Stack } from '@mantine/core';
import { useState } from 'react';
import { useSetPassword } from '../../api/directory-queries';
import { FormError, SettingsTitle } from './common';

/** `/settings/password`: every signed-in user changes their own password. */
export function PasswordPage() {
  const change = useSetPassword();
  const [current, setCurrent] = useState('');
  const [next, setNext] = useState('');
  const [confirm, setConfirm] = useState('');
  const [mismatch, setMismatch] = useState(false);
  return (
    <Stack maw={480}>
      <SettingsTitle title="Change password" />
      <Paper withBorder p="md">
        <form
          onSubmit={(event) => {
            event.preventDefault();
            change.reset();
            if (next !== confirm) {
              setMismatch(true);
              return;
            }
            setMismatch(false);
            change.mutate(
              { currentPassword: current, newPassword: next },
              {
                onSuccess: () => {
                  setCurrent('');
                  setNext('');
                  setConfirm('');
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
            <PasswordInput
              label="New password"
              description="At least 8 characters."
              autoComplete="new-password"
              required
              minLength={8}
              value={next}
              onChange={(e) => setNext(e.currentTarget.value)}
            />
            <PasswordInput
              label="Confirm new password"
              autoComplete="new-password"
              required
              value={confirm}
              error={mismatch ? 'The two new passwords differ.' : null}
              onChange={(e) => setConfirm(e.currentTarget.value)}
            />
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
