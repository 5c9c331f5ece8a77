import { App, type FormInstance } from 'antd';
import { useMemo } from 'react';
import { errorText, fieldErrors } from './api';

/**
 * Short notices at the top of the page, for mutation callbacks. They return nothing on purpose: TanStack Query waits
 * for whatever onSuccess/onError return before a mutation settles, and antd's message returns a promise that settles
 * when the notice closes (3 s) — `onError: (e) => message.error(…)` kept a form's button loading, and deaf to
 * clicks, for 3 s after every refusal.
 */
export function useToast() {
  const { message } = App.useApp();
  return useMemo(
    () => ({
      success: (text: string) => void message.success(text),
      warning: (text: string) => void message.warning(text),
      error: (text: string) => void message.error(text),
      /** the Chinese text of a refused or failed request */
      failed: (err: unknown) => void message.error(errorText(err)),
      /** a refusal at the form's fields it names, else as a notice */
      refused: (form: FormInstance, err: unknown) => {
        const fields = fieldErrors(err);
        if (fields.length) form.setFields(fields);
        else void message.error(errorText(err));
      },
    }),
    [message],
  );
}
