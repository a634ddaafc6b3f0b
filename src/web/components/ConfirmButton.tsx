import { notifications } from '@mantine/notifications';
import { ConfirmAction } from './ConfirmAction';

/** An action on a run behind a confirmation; a toast says it was done, a refusal stays in the dialog. */
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
  return (
    <ConfirmAction
      label={label}
      question={question}
      size="sm"
      color={color ?? 'blue'}
      dismissLabel="Keep it"
      onConfirm={async () => {
        await onConfirm();
        notifications.show({ color: 'green', message: `${label}: done.` });
      }}
    />
  );
}
