export { runServerSuite, type ServerSuiteOptions } from './runner.js';
export { writeReports } from './report-json.js';
export { conformanceCommand } from './cli.js';
export type { CaseResult, SuiteResult, Verdict, WireEntry, Summary } from './types.js';
export { startClientFuzzer, type ClientFuzzer, type ClientFuzzerOptions } from './client-mode.js';
export { runClientDriver, type BrowserLikeWebSocket, type BrowserLikeWebSocketCtor, type ClientDriverOptions } from './driver.js';
