// The page's one door to the SDK: types from the SDK's public entry. At run time the page loads
// it from /client.js (scripts/build-web.mjs keeps it out of app.js).
export type { Client, FileInfo, UploadEvent } from '../client/browser.js';
export { connect } from '../client/browser.js';
export type { Subscription } from 'rxjs';
