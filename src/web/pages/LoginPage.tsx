import {
  Alert,
  Button,
  Center,
  Code,
  Paper,
  PasswordInput,
  Stack,
  Table,
  Text,
  TextInput,
  Title,
  UnstyledButton,
} from '@mantine/core';
import { useForm } from '@mantine/form';
import { useNavigate, useSearchParams } from 'react-router';
import { sameOriginPath } from '../../domain/redirect-target';
import { useDemoLogins, useLogin } from '../api/queries';

export function LoginPage() {
  const login = useLogin();
  const demo = useDemoLogins();
  const navigate = useNavigate();
  const [search] = useSearchParams();
  const form = useForm({
    initialValues: { email: '', password: '' },
    validate: {
      email: (v) => (/^\S+@\S+$/.test(v) ? null : 'Enter your email address'),
      password: (v) => (v ? null : 'Enter your password'),
    },
  });
  const next = sameOriginPath(search.get('from'));
  // The same public answer says how one signs in here (DESIGN §15).
  const methods = demo.data as { sso?: boolean; passwordLogin?: boolean } | undefined;
  const ssoFailed = search.get('error') === 'sso';

  return (
    <Center component="main" mih="100vh" p="md">
      <Stack w={420}>
        <Title order={1} size="h2">
          Runwarden
        </Title>
        {ssoFailed && (
          <Alert color="red" role="alert" data-testid="sso-error">
            Single sign-on did not work. Try again, or ask your administrator.
          </Alert>
        )}
        {methods?.sso && (
          <Paper withBorder p="lg">
            <Button
              component="a"
              href={`/api/auth/oidc/login?returnTo=${encodeURIComponent(next)}`}
              fullWidth
              variant={methods.passwordLogin === false ? 'filled' : 'default'}
            >
              Sign in with SSO
            </Button>
          </Paper>
        )}
        {methods?.passwordLogin !== false && (
          <Paper withBorder p="lg">
            <form
              onSubmit={form.onSubmit((values) =>
                login.mutate(values, { onSuccess: () => navigate(next, { replace: true }) }),
              )}
            >
              <Stack>
                <TextInput label="Email" autoComplete="username" {...form.getInputProps('email')} />
                <PasswordInput
                  label="Password"
                  autoComplete="current-password"
                  {...form.getInputProps('password')}
                />
                {login.error && (
                  <Alert color="red" role="alert">
                    {login.error.message}
                  </Alert>
                )}
                <Button type="submit" loading={login.isPending}>
                  Log in
                </Button>
              </Stack>
            </form>
          </Paper>
        )}
        {demo.data && demo.data.logins.length > 0 && (
          <Paper withBorder p="md">
            <Text size="sm" fw={600} mb="xs">
              Demo logins (the password was printed when the server started)
            </Text>
            <Table fz="sm" data-testid="demo-logins">
              <Table.Tbody>
                {demo.data.logins.map((l) => (
                  <Table.Tr key={l.email}>
                    <Table.Td>
                      <UnstyledButton onClick={() => form.setFieldValue('email', l.email)}>
                        <Code>{l.email}</Code>
                      </UnstyledButton>
                    </Table.Td>
                    <Table.Td>{l.description}</Table.Td>
                  </Table.Tr>
                ))}
              </Table.Tbody>
            </Table>
          </Paper>
        )}
      </Stack>
    </Center>
  );
}
