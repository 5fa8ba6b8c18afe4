// The pinned Temporal CLI: one definition, in the CLI that also runs it (`sendonce temporal …`).
export { TEMPORAL_CLI_VERSION, temporalCliPath, toolCacheDir } from '../../src/cli/temporal-cli';
