package dev.grit.engine;

import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.noClasses;

import com.tngtech.archunit.core.importer.ClassFileImporter;
import com.tngtech.archunit.core.importer.ImportOption;
import org.junit.jupiter.api.Test;

/** engine is the domain: no Raft, SQL, RocksDB, network or Kubernetes in it. */
class ArchitectureTest {
  @Test
  void engineKnowsNoInfrastructure() {
    var classes =
        new ClassFileImporter()
            .withImportOption(ImportOption.Predefined.DO_NOT_INCLUDE_TESTS)
            .importPackages("dev.grit.engine");
    noClasses()
        .should()
        .dependOnClassesThat()
        .resideInAnyPackage(
            "org.apache.ratis..",
            "org.rocksdb..",
            "org.sqlite..",
            "java.sql..",
            "io.netty..",
            "io.fabric8..",
            "javax.jmdns..",
            "dev.grit.consensus..",
            "dev.grit.node..",
            "dev.grit.discovery..")
        .check(classes);
  }
}
