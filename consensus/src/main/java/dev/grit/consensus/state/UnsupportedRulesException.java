package dev.grit.consensus.state;

/**
 * The record follows rules newer than this code applies: the replica must stop rather than
 * compute effects its peers do not.
 */
public final class UnsupportedRulesException extends RuntimeException {
  UnsupportedRulesException(int recordVersion, int supported) {
    super(
        "the record follows rules version "
            + recordVersion
            + ", newer than this release applies ("
            + supported
            + "): upgrade this node");
  }
}
