import type { HTMLAttributes, KeyboardEvent } from 'react';

/**
 * A table row that opens its record: by a click, and (WCAG 2.1.1) by Tab to the row and Enter or Space — a row
 * that answered only the mouse left keyboard users no way into the details. For antd's `onRow`.
 */
export function openableRow<T>(open: (record: T) => void): (record: T) => HTMLAttributes<HTMLElement> {
  return (record) => ({
    onClick: () => open(record),
    onKeyDown: (e: KeyboardEvent) => {
      if (e.target !== e.currentTarget || (e.key !== 'Enter' && e.key !== ' ')) return;
      e.preventDefault();
      open(record);
    },
    tabIndex: 0,
    style: { cursor: 'pointer' },
  });
}
