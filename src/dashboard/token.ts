/** The bearer token, kept for this browser tab's session only (sessionStorage), never in localStorage. */
const KEY = 'transit.dashboard.token';

export const readToken = (): string | null => {
  try {
    return sessionStorage.getItem(KEY);
  } catch {
    return null;
  }
};

export const saveToken = (token: string | null): void => {
  try {
    if (token === null || token === '') sessionStorage.removeItem(KEY);
    else sessionStorage.setItem(KEY, token);
  } catch {
    // Storage refused (private mode): the token lives as long as the page.
  }
};
