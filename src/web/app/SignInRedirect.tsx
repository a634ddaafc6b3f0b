import { Center, Loader } from '@mantine/core';
import { useEffect } from 'react';
import { Navigate } from 'react-router';
import { sameOriginPath } from '../../domain/redirect-target';
import { hostLogin, hostLoginUrl } from '../api/base';

/** Nobody signed in: to Runwarden's login, or, embedded in a host, to the host's own sign-in page. */
export function SignInRedirect({ from }: { from: string }) {
  useEffect(() => {
    if (hostLoginUrl) window.location.replace(hostLogin(hostLoginUrl, from));
  }, [from]);
  if (!hostLoginUrl)
    return <Navigate to={`/login?from=${encodeURIComponent(sameOriginPath(from))}`} replace />;
  return (
    <Center h="100vh">
      <Loader aria-label="Signing in" />
    </Center>
  );
}
