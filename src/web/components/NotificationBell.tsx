import { ActionIcon, Indicator, Menu, Stack, Text } from '@mantine/core';
import { useNavigate } from 'react-router';
import { useMarkRead, useNotifications } from '../api/queries';

/** Terminal runs the caller started: unread count, mark read, open the canonical run. */
export function NotificationBell() {
  const notifications = useNotifications();
  const markRead = useMarkRead();
  const navigate = useNavigate();
  const unread = notifications.data?.unreadCount ?? 0;
  return (
    <Menu position="bottom-end" width={360}>
      <Menu.Target>
        <ActionIcon
          variant="subtle"
          size="lg"
          aria-label={`${unread} unread notifications`}
          data-testid="notification-bell"
        >
          <Indicator label={unread} size={16} disabled={unread === 0} color="red">
            <BellIcon />
          </Indicator>
        </ActionIcon>
      </Menu.Target>
      <Menu.Dropdown>
        <Menu.Label>Notifications</Menu.Label>
        {notifications.data?.items.length ? (
          notifications.data.items.map((note) => (
            <Menu.Item
              key={note.id}
              onClick={() => {
                if (!note.readAt) markRead.mutate(note.id);
                navigate(note.link);
              }}
            >
              <Stack gap={0}>
                <Text size="sm" fw={note.readAt ? 400 : 700}>
                  {note.title}
                </Text>
                <Text size="xs" c="dimmed" lineClamp={2}>
                  {note.body}
                </Text>
              </Stack>
            </Menu.Item>
          ))
        ) : (
          <Menu.Item disabled>Nothing yet.</Menu.Item>
        )}
      </Menu.Dropdown>
    </Menu>
  );
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
