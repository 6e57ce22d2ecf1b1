/**
 * htm bound to preact: JSX-like templates without a compile step beyond the bundle.
 */
import htm from 'htm';
import { h } from 'preact';

export const html = htm.bind(h);
