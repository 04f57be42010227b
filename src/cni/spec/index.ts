// The CNI protocol as data: configuration files, results of each version, the error object, CNI_ARGS.

export { argBool, formatCniArgs, loadArgs, parseCniArgs } from './args.js';
export {
  checkNetworkName,
  confListFromObject,
  confToList,
  DEFAULT_CONF_DIR,
  goTypeOf,
  type LoadedConf,
  loadDefaultNetwork,
  type NetworkConfigList,
  parseConf,
  parseConfList,
  parseNetworkConfig,
} from './conf.js';
export {
  asCniError,
  CNI_ERR_INTERNAL,
  CNI_ERR_INVALID_NETNS,
  CniConfError,
  confErrorAt,
  goQuoteList,
  wrapPluginError,
} from './errors.js';
export { goMarshal, goMarshalIndent, sortKeysDeep } from './gojson.js';
export {
  formatPath,
  type JsonDoc,
  type JsonObject,
  type JsonPath,
  JsonSyntaxError,
  type JsonValue,
  parseJson,
} from './json.js';
export {
  asSeenBy,
  convertResult,
  decodeResult,
  encodeResult,
  errorObjectProblems,
  printError,
  printResult,
  RESERVED_CODES,
  resultProblems,
  validateErrorObject,
  validateResult,
} from './result.js';
export { effectiveVersion, incompatibleVersion, isSupportedVersion, versionAtLeast } from './version.js';
