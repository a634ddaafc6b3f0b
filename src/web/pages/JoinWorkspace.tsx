import { Alert, Anchor, Button, Paper, Stack, Text } from '@mantine/core';
import { useQueryClient } from '@tanstack/react-query';
import { Link, useNavigate } from 'react-router';
import { useAcceptInvitation } from '../api/directory-queries';
import { useMe } from '../api/queries';
import { useNewPassword } from '../components/NewPassword';
import { FormError } from './settings/common';

/**
 * An invitation a workspace owner made (DESIGN §10): the person joins signed in as the email it
 * names, or, new here, by choosing a password. The link's holder may be the owner, so it never
 * sets an existing account's password, and the API answers alike whether or not the email has an
 * account (saying which would tell the owner who uses the platform): after a password, this page
 * tells both kinds of person what to do next.
 */
export function JoinWorkspace({ token }: { token: string }) {
  const me = useMe();
  const accept = useAcceptInvitation();
  const password = useNewPassword('The two passwords differ.');
  const client = useQueryClient();
  const navigate = useNavigate();
  // Unencoded, so a server log that ever sees this URL masks the token like any invite path.
  const login = `/login?from=/invite/${token}`;

  if (me.data)
    return (
      <Paper withBorder p="lg">
        <Stack align="flex-start">
          <Text size="sm">
            You were invited to a workspace. Accept to join it as {me.data.user.email}.
          </Text>
          <FormError error={accept.error} />
          <Button
            loading={accept.isPending}
            onClick={() =>
              accept.mutate(
                { token },
                {
                  onSuccess: async () => {
                    await client.invalidateQueries({ queryKey: ['me'] });
                    navigate('/', { replace: true });
                  },
                },
              )
            }
          >
            Accept invitation
          </Button>
        </Stack>
      </Paper>
    );
  if (accept.isSuccess)
    return (
      <Alert color="green" role="status" title="Next: log in" data-testid="invite-done">
        <Stack gap="sm" align="flex-start">
          <Text size="sm">
            New here? Your account is ready: log in with your email address and the password you
            just chose.
          </Text>
          <Text size="sm">
            Already had an account with this email? Nothing about it changed and the password you
            just typed was not saved: log in as you always do, then open this invitation link again
            to accept it.
          </Text>
          <Button component={Link} to="/login" replace>
            Go to login
          </Button>
        </Stack>
      </Alert>
    );
  return (
    <Paper withBorder p="lg">
      <form
        onSubmit={(event) => {
          event.preventDefault();
          accept.reset();
          if (password.confirmed()) accept.mutate({ token, newPassword: password.value });
        }}
      >
        <Stack>
          <Text size="sm">
            You were invited to a workspace. Already using Runwarden with this email?{' '}
            <Anchor component={Link} to={login}>
              Log in
            </Anchor>{' '}
            and accept (choosing a password here never changes an existing account). New here?
            Choose a password to create your account.
          </Text>
          {password.fields}
          <FormError error={accept.error} />
          <Button type="submit" loading={accept.isPending}>
            Set password
          </Button>
        </Stack>
      </form>
    </Paper>
  );
}
