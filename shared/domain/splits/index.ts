export {
  groupHoldOutSplits,
  kFoldSplits,
  makeSplits,
  randomSplit,
  type Split,
  type SplitSource,
  stratifiedKFoldSplits,
  timeSplit,
} from './splits';
