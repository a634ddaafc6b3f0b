import { Alert, Button, Group, Modal, Text } from '@mantine/core';
import { useDisclosure } from '@mantine/hooks';
import { useState } from 'react';

/**
 * An action behind a confirmation dialog whose refusal stays in the dialog, next to the question
 * (a 409 "last owner" must be read, not missed in a toast).
 */
export function ConfirmAction({
  label,
  ariaLabel,
  confirmLabel = label,
  dismissLabel = 'Cancel',
  question,
  color = 'red',
  size = 'xs',
  onConfirm,
}: {
  label: string;
  /** The trigger's accessible name when the visible label alone is ambiguous (one per row). */
  ariaLabel?: string;
  confirmLabel?: string;
  /** The button that closes the dialog doing nothing ("Keep it" where the action is a cancel). */
  dismissLabel?: string;
  question: string;
  color?: string;
  size?: string;
  onConfirm: () => Promise<unknown>;
}) {
  const [opened, { open, close }] = useDisclosure(false);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  return (
    <>
      <Button
        variant="light"
        color={color}
        size={size}
        aria-label={ariaLabel}
        onClick={() => {
          setError(null);
          open();
        }}
      >
        {label}
      </Button>
      <Modal opened={opened} onClose={close} title={ariaLabel ?? label}>
        <Text size="sm">{question}</Text>
        {error && (
          <Alert color="red" role="alert" mt="md" data-testid="confirm-error">
            {error}
          </Alert>
        )}
        <Group justify="flex-end" mt="md">
          <Button variant="default" onClick={close}>
            {dismissLabel}
          </Button>
          <Button
            color={color}
            loading={busy}
            onClick={async () => {
              setBusy(true);
              setError(null);
              try {
                await onConfirm();
                close();
              } catch (failure) {
                setError((failure as Error).message);
              } finally {
                setBusy(false);
              }
            }}
          >
            {confirmLabel}
          </Button>
        </Group>
      </Modal>
    </>
  );
}
