import { Button, Group, Modal, Text } from '@mantine/core';
import { useDisclosure } from '@mantine/hooks';
import { notifications } from '@mantine/notifications';
import { useState } from 'react';

/** An action behind a confirmation dialog. */
export function ConfirmButton({
  label,
  question,
  color,
  onConfirm,
}: {
  label: string;
  question: string;
  color?: string;
  onConfirm: () => Promise<unknown>;
}) {
  const [opened, { open, close }] = useDisclosure(false);
  const [busy, setBusy] = useState(false);
  return (
    <>
      <Button variant="light" color={color} onClick={open}>
        {label}
      </Button>
      <Modal opened={opened} onClose={close} title={label}>
        <Text size="sm">{question}</Text>
        <Group justify="flex-end" mt="md">
          <Button variant="default" onClick={close}>
            Keep it
          </Button>
          <Button
            color={color}
            loading={busy}
            onClick={async () => {
              setBusy(true);
              try {
                await onConfirm();
                notifications.show({ color: 'green', message: `${label}: done.` });
                close();
              } catch (error) {
                notifications.show({
                  color: 'red',
                  title: label,
                  message: (error as Error).message,
                });
              } finally {
                setBusy(false);
              }
            }}
          >
            {label}
          </Button>
        </Group>
      </Modal>
    </>
  );
}
