/** A migration's progress bar (the store keeps it from running backwards within an attempt). */
export function ProgressBar({ value, state }: { value: number | null; state: string }) {
  const pct = Math.max(0, Math.min(100, value ?? 0));
  return (
    <div class={`progress p-${state.toLowerCase()}`} role="progressbar" aria-valuemin={0} aria-valuemax={100} aria-valuenow={value ?? undefined} data-progress={value ?? ''}>
      <div class="bar" style={{ width: `${pct}%` }} />
      <span>{value === null ? '—' : `${Math.round(pct)}%`}</span>
    </div>
  );
}
