package dev.grit.node;

import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.noClasses;

import com.tngtech.archunit.core.domain.JavaClasses;
import com.tngtech.archunit.core.importer.ClassFileImporter;
import com.tngtech.archunit.core.importer.ImportOption;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** node → consensus → engine, node → discovery: nothing points up. */
class ModuleDirectionTest {
  static JavaClasses classes;

  @BeforeAll
  static void importAll() {
    classes =
        new ClassFileImporter()
            .withImportOption(ImportOption.Predefined.DO_NOT_INCLUDE_TESTS)
            .importPackages("dev.grit");
  }

  @Test
  void consensusDoesNotKnowTheNodeOrDiscovery() {
    noClasses()
        .that()
        .resideInAPackage("dev.grit.consensus..")
        .should()
        .dependOnClassesThat()
        .resideInAnyPackage("dev.grit.node..", "dev.grit.discovery..", "io.netty..", "picocli..")
        .check(classes);
  }

  @Test
  void discoveryKnowsNothingElseOfGrit() {
    noClasses()
        .that()
        .resideInAPackage("dev.grit.discovery..")
        .should()
        .dependOnClassesThat()
        .resideInAnyPackage("dev.grit.node..", "dev.grit.consensus..", "dev.grit.engine..")
        .check(classes);
  }

  /** The command line's two entry points: grit itself and the class-data archive's training. */
  @Test
  void onlyTheCommandLineEndsTheProcess() {
    noClasses()
        .that()
        .doNotHaveFullyQualifiedName("dev.grit.node.cli.Main")
        .and()
        .doNotHaveFullyQualifiedName("dev.grit.node.cli.ClassDataTraining")
        .should()
        .callMethod(System.class, "exit", int.class)
        .orShould()
        .callMethod(Runtime.class, "halt", int.class)
        .check(classes);
  }
}
