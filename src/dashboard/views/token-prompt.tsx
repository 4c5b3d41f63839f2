/** Asks for a bearer token when Transit runs with a credentials file (docs/security.md). */
import { useState } from 'preact/hooks';
import type { LiveDashboard } from '../live.js';

export function TokenPrompt({ live }: { live: LiveDashboard }) {
  const [token, setToken] = useState('');
  return (
    <form
      class="panel token"
      data-testid="token-prompt"
      onSubmit={(e) => {
        e.preventDefault();
        live.setToken(token);
      }}
    >
      <h2>This Transit asks for a token</h2>
      <p>
        Paste a token made with <code>npm run token -- --role viewer</code> (or <code>operator</code> to act). It is kept for this tab's session only.
      </p>
      {live.tokenProblem !== null && (
        <p class="error" data-testid="token-error" role="alert">
          Refused: {live.tokenProblem}
        </p>
      )}
      <label>
        Token <input type="password" name="token" autocomplete="off" value={token} onInput={(e) => setToken((e.target as HTMLInputElement).value)} />
      </label>
      <button type="submit">Connect</button>
    </form>
  );
}
