import { TagsInput } from '@mantine/core';
import { useState } from 'react';

/** The start API's limits on tags (DESIGN §18). */
export const MAX_TAGS = 10;
export const MAX_TAG_LENGTH = 64;

/**
 * A start's tags, to find its runs again (`tag:` in the list's search). A tag over the length is
 * refused where it was typed rather than cut; the eleventh is not taken.
 */
export function TagsField({
  value,
  error,
  onChange,
}: {
  value: string[];
  error?: string | null;
  onChange: (tags: string[]) => void;
}) {
  const [tooLong, setTooLong] = useState(false);
  return (
    <TagsInput
      label="Tags"
      description={`Optional: up to ${MAX_TAGS}, to find these runs later (search tag:…). Enter or comma adds one.`}
      value={value}
      maxTags={MAX_TAGS}
      splitChars={[',']}
      clearable
      error={tooLong ? `Each tag is at most ${MAX_TAG_LENGTH} characters` : error}
      data-testid="start-tags"
      onChange={(tags) => {
        const kept = tags.map((t) => t.trim()).filter((t) => t.length > 0);
        setTooLong(kept.some((t) => t.length > MAX_TAG_LENGTH));
        onChange(kept.filter((t) => t.length <= MAX_TAG_LENGTH));
      }}
    />
  );
}
