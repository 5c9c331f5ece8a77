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
      /**
       * A refusal at the form's fields it names; as a notice too when it names none of them, or some field the form
       * does not have (a refusal is never silent). `redirectUris.0` is shown at `redirectUris`.
       */
      refused: (form: FormInstance, err: unknown) => {
        const registered = form.getFieldsError().map((f) => f.name.join('.'));
        const atField = (path: string) => registered.find((name) => path === name || path.startsWith(`${name}.`));
        const fields = fieldErrors(err).map((f) => ({ ...f, name: atField(f.name) }));
        const shown = fields.filter((f): f is { name: string; errors: string[] } => f.name !== undefined);
        if (shown.length) form.setFields(shown.map((f) => ({ name: f.name.split('.'), errors: f.errors })));
        if (!shown.length || shown.length < fields.length) void message.error(errorText(err));
      },
    }),
    [message],
  );
}
