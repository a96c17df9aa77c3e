export {
  groupHoldOutSplits,
  kFoldSplits,
  makeSplits,
  MAX_GROUPS,
  randomSplit,
  type Split,
  type SplitSource,
  stratifiedKFoldSplits,
  timeSplit,
} from './splits';
