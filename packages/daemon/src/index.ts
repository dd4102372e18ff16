// @vigil/daemon: clamd's protocol and configuration over Vigil's engine (see README.md).
export { type DaemonConfig, parseConfig, readConfig } from './config.js';
export { Daemon, runDaemon } from './daemon.js';
