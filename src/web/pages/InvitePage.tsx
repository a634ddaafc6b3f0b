import { Alert, Button, Center, Paper, Stack, Text, Title } from '@mantine/core';
import { Link, useParams } from 'react-router';
import { useSetPassword } from '../api/directory-queries';
import { useMe } from '../api/queries';
import { useNewPassword } from '../components/NewPassword';
import { JoinWorkspace } from './JoinWorkspace';
import { FormError } from './settings/common';

/**
 * `/invite/:token` (public, like /login): a set-password link the host's directory issued, or a
 * workspace owner's invitation (`rwm_…`, JoinWorkspace). The API does not sign anyone in, so the
 * page sends them to /login.
 */
export function InvitePage() {
  const token = useParams().token ?? '';
  if (token.startsWith('rwm_'))
    return (
      <Center component="main" mih="100vh" p="md">
        <Stack w={420}>
          <Title order={1} size="h2">
            Join a workspace
          </Title>
          <JoinWorkspace token={token} />
        </Stack>
      </Center>
    );
  return <SetPassword token={token} />;
}

function SetPassword({ token }: { token: string }) {
  // Only for a browser that is already signed in: its cookie writes need the CSRF token.
  useMe();
  const redeem = useSetPassword();
  const password = useNewPassword('The two passwords differ.');

  return (
    <Center component="main" mih="100vh" p="md">
      <Stack w={420}>
        <Title order={1} size="h2">
          Set your password
        </Title>
        {redeem.isSuccess ? (
          <Alert color="green" role="status" title="Your password is set" data-testid="invite-done">
            <Stack gap="sm" align="flex-start">
              <Text size="sm">Log in with your email address and the password you just chose.</Text>
              <Button component={Link} to="/login" replace>
                Go to login
              </Button>
            </Stack>
          </Alert>
        ) : (
          <Paper withBorder p="lg">
            <form
              onSubmit={(event) => {
                event.preventDefault();
                redeem.reset();
                if (password.confirmed())
                  redeem.mutate({ inviteToken: token, newPassword: password.value });
              }}
            >
              <Stack>
                <Text size="sm">
                  You were invited to Runwarden. Choose a password to finish your account.
                </Text>
                {password.fields}
                <FormError error={redeem.error} />
                <Button type="submit" loading={redeem.isPending}>
                  Set password
                </Button>
              </Stack>
            </form>
          </Paper>
        )}
      </Stack>
    </Center>
  );
}
