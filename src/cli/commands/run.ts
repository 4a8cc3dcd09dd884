// `podbgp run --config FILE`: runs the daemon in the foreground. Logs pino JSON on stdout
// (pretty on a TTY or with --pretty). SIGTERM/SIGINT: Cease to peers, kernel routes kept.
// SIGHUP: reload the config. Exit 2 on an invalid config, 1 on a fatal error.

import pino, { type Logger } from 'pino';
import type { CommandModule } from 'yargs';

interface RunArgs {
  config: string;
  'log-level'?: string;
  pretty: boolean;
  'flush-on-exit': boolean;
}

function makeLogger(level: string, pretty: boolean): Logger {
  if (pretty) {
    return pino({
      level,
      transport: { target: 'pino-pretty', options: { colorize: process.stdout.isTTY } },
    });
  }
  return pino({ level });
}

export const runCommand: CommandModule<object, RunArgs> = {
  command: 'run',
  describe: 'Run the BGP daemon',
  builder: (y) =>
    y
      .option('config', {
        alias: 'c',
        type: 'string',
        demandOption: true,
        describe: 'YAML config file',
      })
      .option('log-level', {
        type: 'string',
        choices: ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'],
        describe: 'log level (default: LOG_LEVEL, then the config file, then info)',
      })
      .option('pretty', {
        type: 'boolean',
        default: process.stdout.isTTY === true,
        describe: 'human-readable logs',
      })
      .option('flush-on-exit', {
        type: 'boolean',
        default: false,
        describe: 'remove our kernel routes on exit (default: keep them, so forwarding continues)',
      }),
  handler: async (args) => {
    const level = args['log-level'] ?? process.env.LOG_LEVEL ?? 'info';
    const log = makeLogger(level, args.pretty);
    // Loaded here, not at the top: `podbgp show` must not pay for the daemon's modules.
    const { ConfigInvalid, Daemon } = await import('../../daemon.js');
    let daemon: import('../../daemon.js').Daemon;
    try {
      daemon = Daemon.load({
        configPath: args.config,
        env: process.env,
        log,
        flushOnExit: args['flush-on-exit'] || undefined,
        logLevelFixed: args['log-level'] !== undefined,
      });
    } catch (err) {
      if (err instanceof ConfigInvalid) {
        console.error(`podbgp: invalid configuration ${args.config}:\n${err.report}`);
        process.exit(2);
      }
      throw err;
    }
    if (!args['log-level'] && !process.env.LOG_LEVEL) log.level = daemon.effectiveConfig.logLevel;

    let stopping = false;
    const stop = (signal: string) => {
      if (stopping) return;
      stopping = true;
      log.info({ signal }, 'signal received');
      daemon.shutdown().then(
        () => process.exit(0),
        (err: unknown) => {
          log.error({ err }, 'error during shutdown');
          process.exit(1);
        },
      );
    };
    process.on('SIGTERM', () => stop('SIGTERM'));
    process.on('SIGINT', () => stop('SIGINT'));
    process.on('SIGHUP', () => daemon.reload());
    // A bug in one peer's handling must not take down the others: log it and carry on.
    process.on('uncaughtException', (err) =>
      log.error({ err }, 'uncaught error (daemon continues)'),
    );
    process.on('unhandledRejection', (err) =>
      log.error({ err }, 'unhandled rejection (daemon continues)'),
    );

    try {
      await daemon.start();
    } catch (err) {
      log.fatal({ err }, `cannot start: ${err instanceof Error ? err.message : String(err)}`);
      console.error(`podbgp: cannot start: ${err instanceof Error ? err.message : String(err)}`);
      process.exit(1);
    }
  },
};
