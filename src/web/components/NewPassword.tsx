import { PasswordInput } from '@mantine/core';
import { useState } from 'react';

/**
 * The "new password" and "confirm" pair every password form has (invite, change): their state,
 * the mismatch check run on submit, and the two fields.
 */
export function useNewPassword(mismatchMessage: string) {
  const [value, setValue] = useState('');
  const [confirm, setConfirm] = useState('');
  const [mismatch, setMismatch] = useState(false);
  return {
    value,
    /** On submit: true when the two agree; otherwise the confirmation says they differ. */
    confirmed() {
      setMismatch(value !== confirm);
      return value === confirm;
    },
    clear() {
      setValue('');
      setConfirm('');
    },
    fields: (
      <>
        <PasswordInput
          label="New password"
          description="At least 8 characters."
          autoComplete="new-password"
          required
          minLength={8}
          value={value}
          onChange={(e) => setValue(e.currentTarget.value)}
        />
        <PasswordInput
          label="Confirm new password"
          autoComplete="new-password"
          required
          value={confirm}
          error={mismatch ? mismatchMessage : null}
          onChange={(e) => setConfirm(e.currentTarget.value)}
        />
      </>
    ),
  };
}
