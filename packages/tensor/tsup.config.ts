import { libraryConfig } from '../../tsup.shared';

export default libraryConfig({ index: 'src/index.ts', 'node/index': 'src/node/index.ts', 'testing/index': 'src/testing/index.ts' }, { external: ['vitest'] });
