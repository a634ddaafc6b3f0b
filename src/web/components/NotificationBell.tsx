import { ActionIcon, Button, Group, Indicator, Menu, ScrollArea, Stack, Text } from '@mantine/core';
import { useNavigate } from 'react-router';
import { useMarkAllRead, useNotificationFeed } from '../api/console-queries';
import { useMarkRead, useOperationTypes } from '../api/queries';
import type { Notification, OperationType } from '../api/types';
import { useNow } from './RunTime';
import { dayLabel, formatAbsolute, formatAgo } from './time';

/**
 * Terminal runs the caller started, newest first and grouped by day: unread count, mark one or all
 * read, open the canonical run. Titles name the operation type's label, not its id.
 */
export function NotificationBell() {
  const feed = useNotificationFeed();
  const types = useOperationTypes();
  const markRead = useMarkRead();
  const markAll = useMarkAllRead();
  const navigate = useNavigate();
  const now = useNow(30_000);
  const items = feed.data?.items ?? [];
  const unread = feed.data?.unreadCount ?? 0;
  const groups = byDay(items, now);
  return (
    <Menu position="bottom-end" width={360} closeOnItemClick>
      <Menu.Target>
        <ActionIcon
          variant="subtle"
          size="lg"
          aria-label={`${unread} unread notifications`}
          data-testid="notification-bell"
          data-unread={unread}
        >
          <Indicator label={unread} size={16} disabled={unread === 0} color="red">
            <BellIcon />
          </Indicator>
        </ActionIcon>
      </Menu.Target>
      <Menu.Dropdown data-testid="notification-list" maw="calc(100vw - 16px)">
        <Group justify="space-between" px="xs" py={4} wrap="nowrap">
          <Text size="sm" fw={700}>
            Notifications
          </Text>
          <Button
            size="compact-xs"
            variant="subtle"
            disabled={unread === 0}
            loading={markAll.isPending}
            onClick={() => markAll.mutate(items.filter((note) => !note.readAt))}
            data-testid="mark-all-read"
          >
            Mark all read
          </Button>
        </Group>
        <ScrollArea.Autosize mah="min(60vh, 420px)" type="auto" data-testid="notification-scroll">
          {groups.length ? (
            groups.map((group) => (
              <div key={group.day} data-testid="notification-day">
                <Menu.Label>{group.day}</Menu.Label>
                {group.items.map((note) => (
                  <Menu.Item
                    key={note.id}
                    data-testid="notification-item"
                    data-read={note.readAt ? 'true' : 'false'}
                    onClick={() => {
                      if (!note.readAt) markRead.mutate(note.id);
                      navigate(note.link);
                    }}
                  >
                    <Stack gap={0}>
                      <Text size="sm" fw={note.readAt ? 400 : 700} data-testid="notification-title">
                        {titleOf(note.title, types.data)}
                      </Text>
                      <Text size="xs" c="dimmed" lineClamp={2}>
                        {note.body}
                      </Text>
                      <Text size="xs" c="dimmed" title={formatAbsolute(note.createdAt)}>
                        {formatAgo(note.createdAt, now)}
                      </Text>
                    </Stack>
                  </Menu.Item>
                ))}
              </div>
            ))
          ) : (
            <Menu.Item disabled>Nothing yet.</Menu.Item>
          )}
        </ScrollArea.Autosize>
      </Menu.Dropdown>
    </Menu>
  );
}

/** A notice's title is `<type>: <state>`; a person reads the type's label there. */
function titleOf(title: string, types: OperationType[] | undefined): string {
  const type = types?.find((t) => title.startsWith(`${t.type}: `));
  return type ? `${type.label}: ${title.slice(type.type.length + 2)}` : title;
}

function byDay(items: Notification[], now: number) {
  const groups: Array<{ day: string; items: Notification[] }> = [];
  for (const note of items) {
    const day = dayLabel(note.createdAt, now);
    const last = groups.at(-1);
    if (last?.day === day) last.items.push(note);
    else groups.push({ day, items: [note] });
  }
  return groups;
}

function BellIcon() {
  return (
    <svg
      width="18"
      height="18"
      viewBox="0 0 24 24"
      fill="none"
      stroke="currentColor"
      strokeWidth="2"
      aria-hidden="true"
    >
      <path d="M6 8a6 6 0 1 1 12 0c0 7 3 9 3 9H3s3-2 3-9" />
      <path d="M10.3 21a1.94 1.94 0 0 0 3.4 0" />
    </svg>
  );
}
