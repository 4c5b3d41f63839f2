/** Small formatting helpers shared by the views. */
export const time = (iso: string | null | undefined): string => (iso ? new Date(iso).toLocaleTimeString([], { hour12: false }) : '');

/** CSS class of a status or state, e.g. `s-non-responsive`. */
export const statusClass = (status: string): string => `s-${status.toLowerCase().replace(/_/g, '-')}`;

export const words = (constant: string): string => constant.toLowerCase().replace(/_/g, ' ');
