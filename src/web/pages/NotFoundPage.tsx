import { Anchor, Stack, Text, Title } from '@mantine/core';
import { Link } from 'react-router';

/** The same page for a missing id and for one the caller may not see (deny as not found). */
export function NotFoundPage({ what = 'page' }: { what?: string }) {
  return (
    <Stack gap="xs" data-testid="not-found">
      <Title order={1} size="h3">
        Not found
      </Title>
      <Text>There is no such {what}, or you do not have access to it.</Text>
      <Anchor component={Link} to="/">
        Go to your overview
      </Anchor>
    </Stack>
  );
}
