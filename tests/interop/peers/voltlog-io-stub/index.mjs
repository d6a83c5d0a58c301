import stub from './index.cjs';

export const { createLogger, consoleTransport, prettyTransport, LogLevel } = stub;
export default stub;
