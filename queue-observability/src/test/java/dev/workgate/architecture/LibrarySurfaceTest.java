package dev.workgate.architecture;

import static com.tngtech.archunit.core.domain.JavaClass.Predicates.equivalentTo;
import static com.tngtech.archunit.core.domain.JavaClass.Predicates.resideInAPackage;
import static com.tngtech.archunit.core.domain.JavaClass.Predicates.resideInAnyPackage;
import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.noClasses;
import static com.tngtech.archunit.library.dependencies.SlicesRuleDefinition.slices;
import static org.assertj.core.api.Assertions.assertThat;

import com.tngtech.archunit.core.domain.JavaClass;
import com.tngtech.archunit.core.domain.JavaClasses;
import com.tngtech.archunit.core.domain.JavaCodeUnit;
import com.tngtech.archunit.core.domain.JavaField;
import com.tngtech.archunit.core.domain.JavaModifier;
import com.tngtech.archunit.core.importer.ClassFileImporter;
import dev.workgate.WorkContext;
import dev.workgate.WorkHandler;
import dev.workgate.WorkResult;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

/**
 * The library's surface and package structure, read from the compiled classes of the library
 * modules (queue-core, queue-retry, queue-scheduler, queue-execution, queue-observability; the test
 * kit, the admin tool, the examples and the benchmarks are users of the library, not part of it).
 */
class LibrarySurfaceTest {
  /**
   * The most public top-level types the library's API may have: every package that is neither
   * internal nor the store SPI. A ceiling that only goes down: a change that adds a public type
   * removes another or makes a case for it here. It stood at 47, half of the 94 public types the
   * library had when the narrowing began; 48 since {@code dev.workgate.core.store.EndedCount}, the
   * bucket of {@code StoreView.endedPerInterval}: the HTTP API and the operator console were
   * written against that name at the same time as the store method, so it could not become a member
   * type of {@code StoreView} as {@code LogPage} and {@code QueueCounts} are. 55 since work that
   * builds on work: {@code BatchId} (an identity users hold and pass, as {@code WorkOrderId}),
   * {@code DependencyFailure} (the policy a spec names), {@code Progress} (on every view, in the
   * HTTP API and the CLI), {@code StaleAttemptException} (thrown to handlers; exceptions stand
   * alone), {@code QueueAction} (a pause as recorded, read by the CLI, the endpoint and health),
   * {@code BatchStatus} (what {@code batch(id)} and the completion future give) and {@code
   * AttemptReports} (the sandbox SPI's side of progress and checkpoints, as {@code
   * SandboxProvider}): each a name that the API, the HTTP API and the console use.
   */
  static final int API_TYPES_CEILING = 55;

  /**
   * The most public top-level types of the store SPI ({@code dev.workgate.spi}): what a third-party
   * store needs beside {@code WorkOrderStore}. Only goes down.
   */
  static final int SPI_TYPES_CEILING = 12;

  /** The one place where an internal type is reachable from the API: the test kit's seam. */
  private static final Set<String> INTERNAL_SEAMS =
      Set.of("dev.workgate.Workgate$Builder.manualDrive");

  /** Classes of the library modules: their build output in the reactor, or their jars. */
  private static final Pattern LIBRARY_MODULES =
      Pattern.compile(
          ".*/queue-(core|retry|scheduler|execution|observability)"
              + "(/target/classes/|-[^/]*(?<!-tests)\\.jar!/).*");

  private static final JavaClasses LIBRARY =
      new ClassFileImporter()
          .withImportOption(location -> location.matches(LIBRARY_MODULES))
          .importPackages("dev.workgate");

  private static boolean internal(JavaClass c) {
    return internal(c.getPackageName());
  }

  private static boolean internal(String pkg) {
    return pkg.equals("dev.workgate.internal")
        || pkg.startsWith("dev.workgate.internal.")
        || pkg.contains(".internal.")
        || pkg.endsWith(".internal");
  }

  private static boolean spi(JavaClass c) {
    return c.getPackageName().equals("dev.workgate.spi");
  }

  private static List<String> publicTopLevelTypes(java.util.function.Predicate<JavaClass> where) {
    return LIBRARY.stream()
        .filter(c -> c.getEnclosingClass().isEmpty() && !c.isAnonymousClass())
        .filter(c -> c.getModifiers().contains(JavaModifier.PUBLIC))
        .filter(where)
        .map(JavaClass::getName)
        .sorted()
        .collect(Collectors.toList());
  }

  @Test
  void the_library_modules_are_all_imported() {
    Set<String> packages =
        LIBRARY.stream().map(JavaClass::getPackageName).collect(Collectors.toSet());
    assertThat(packages)
        .contains(
            "dev.workgate",
            "dev.workgate.core",
            "dev.workgate.core.store",
            "dev.workgate.core.internal.jdbc",
            "dev.workgate.spi",
            "dev.workgate.retry",
            "dev.workgate.scheduler",
            "dev.workgate.execution",
            "dev.workgate.observability");
    assertThat(packages)
        .noneMatch(p -> p.startsWith("dev.workgate.test"))
        .noneMatch(p -> p.startsWith("dev.workgate.admin"))
        .noneMatch(p -> p.startsWith("dev.workgate.architecture"));
  }

  @Test
  void public_api_types_stay_under_the_ceiling() {
    List<String> api = publicTopLevelTypes(c -> !internal(c) && !spi(c));
    List<String> spi = publicTopLevelTypes(LibrarySurfaceTest::spi);
    List<String> internal = publicTopLevelTypes(LibrarySurfaceTest::internal);
    System.out.printf(
        "public top-level types in the library: %d API (ceiling %d), %d SPI (ceiling %d),"
            + " %d in internal packages%n",
        api.size(), API_TYPES_CEILING, spi.size(), SPI_TYPES_CEILING, internal.size());
    assertThat(api)
        .as(
            "public top-level types of the API; lower the ceiling when types leave, never raise it"
                + " without a reason")
        .hasSizeLessThanOrEqualTo(API_TYPES_CEILING);
    assertThat(spi)
        .as("public top-level types of the SPI")
        .hasSizeLessThanOrEqualTo(SPI_TYPES_CEILING);
  }

  @Test
  void packages_depend_on_each_other_without_cycles() {
    // An implementation may use the API it implements, so dependencies from an internal package
    // on a package that is not internal are left out; everything else must be acyclic: the API
    // packages among themselves, the internal packages among themselves, and the API's uses of
    // internal code. One cycle is part of the published API and named here: the sandbox API
    // (dev.workgate.execution) returns and runs the handler types of dev.workgate, whose runtime
    // takes sandbox providers.
    slices()
        .matching("dev.(**)")
        .should()
        .beFreeOfCycles()
        .ignoreDependency(
            resideInAPackage("..internal.."),
            com.tngtech.archunit.base.DescribedPredicate.not(resideInAPackage("..internal..")))
        .ignoreDependency(
            resideInAnyPackage("dev.workgate.execution"),
            equivalentTo(WorkResult.class)
                .or(equivalentTo(WorkHandler.class))
                .or(equivalentTo(WorkContext.class)))
        .check(LIBRARY);
  }

  @Test
  void the_spi_stands_on_the_model_and_the_store_contract_alone() {
    noClasses()
        .that()
        .resideInAPackage("dev.workgate.spi")
        .should()
        .dependOnClassesThat()
        .resideInAnyPackage(
            "dev.workgate",
            "dev.workgate.retry..",
            "dev.workgate.scheduler..",
            "dev.workgate.execution..",
            "dev.workgate.observability..",
            "dev.workgate.core.internal.jdbc..",
            "dev.workgate.core.internal.memory..")
        .check(LIBRARY);
  }

  @Test
  void internal_and_spi_packages_say_what_they_are() throws java.io.IOException {
    // package-info files compile to nothing without annotations, so read the sources of the
    // library modules beside this one.
    java.nio.file.Path root = java.nio.file.Path.of("..").toAbsolutePath().normalize();
    List<String> undocumented = new ArrayList<>();
    for (String pkg :
        LIBRARY.stream()
            .map(JavaClass::getPackageName)
            .filter(p -> internal(p) || p.equals("dev.workgate.spi"))
            .distinct()
            .sorted()
            .collect(Collectors.toList())) {
      String rel = "src/main/java/" + pkg.replace('.', '/') + "/package-info.java";
      boolean found = false;
      try (var modules = java.nio.file.Files.list(root)) {
        for (java.nio.file.Path m : (Iterable<java.nio.file.Path>) modules::iterator) {
          java.nio.file.Path info = m.resolve(rel);
          if (java.nio.file.Files.isRegularFile(info)) {
            String text = java.nio.file.Files.readString(info);
            found =
                pkg.equals("dev.workgate.spi") ? text.contains("SPI") : text.contains("Internal");
          }
        }
      }
      if (!found) {
        undocumented.add(pkg);
      }
    }
    assertThat(undocumented)
        .as("internal packages whose package-info does not say \"Internal\", or an SPI without one")
        .isEmpty();
  }

  @Test
  void no_public_signature_outside_internal_packages_names_an_internal_type() {
    List<String> exposed = new ArrayList<>();
    for (JavaClass c : LIBRARY) {
      if (internal(c) || !c.getModifiers().contains(JavaModifier.PUBLIC)) {
        continue;
      }
      for (JavaCodeUnit unit : c.getCodeUnits()) {
        if (!visible(unit.getModifiers())) {
          continue;
        }
        List<JavaClass> named = new ArrayList<>(unit.getRawParameterTypes());
        named.add(unit.getRawReturnType());
        for (JavaClass t : named) {
          String where = c.getName() + "." + unit.getName();
          if (internal(t) && !INTERNAL_SEAMS.contains(where)) {
            exposed.add(where + " names " + t.getName());
          }
        }
      }
      for (JavaField f : c.getFields()) {
        if (visible(f.getModifiers()) && internal(f.getRawType())) {
          exposed.add(c.getName() + "." + f.getName() + " is a " + f.getRawType().getName());
        }
      }
    }
    assertThat(exposed).isEmpty();
  }

  private static boolean visible(Set<JavaModifier> modifiers) {
    return modifiers.contains(JavaModifier.PUBLIC) || modifiers.contains(JavaModifier.PROTECTED);
  }
}
