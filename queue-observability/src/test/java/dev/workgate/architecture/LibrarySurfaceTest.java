package dev.workgate.architecture;

import static com.tngtech.archunit.core.domain.JavaClass.Predicates.equivalentTo;
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
import dev.workgate.core.store.Stores;
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
   * The most public top-level types the library modules may have outside their internal packages. A
   * ceiling that only goes down: a change that adds a public type removes another or makes a case
   * for it here. The aim is at most 47 (half of the 94 the library had when the narrowing began);
   * lower this as implementation classes leave the public surface.
   */
  static final int PUBLIC_TYPES_CEILING = 108;

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
    return c.getPackageName().startsWith("dev.workgate.internal")
        || c.getPackageName().contains(".internal.");
  }

  private static List<String> publicTopLevelTypes() {
    return LIBRARY.stream()
        .filter(c -> c.getEnclosingClass().isEmpty() && !c.isAnonymousClass())
        .filter(c -> c.getModifiers().contains(JavaModifier.PUBLIC))
        .filter(c -> !internal(c))
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
            "dev.workgate.core.store.jdbc",
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
  void public_top_level_types_stay_under_the_ceiling() {
    List<String> types = publicTopLevelTypes();
    System.out.printf(
        "public top-level types in the library: %d (ceiling %d)%n",
        types.size(), PUBLIC_TYPES_CEILING);
    assertThat(types)
        .as(
            "public top-level types outside internal packages; lower the ceiling when types leave,"
                + " never raise it without a reason")
        .hasSizeLessThanOrEqualTo(PUBLIC_TYPES_CEILING);
  }

  @Test
  void packages_depend_on_each_other_without_cycles() {
    // Two cycles are known and named here until the packages are reshaped: Stores constructs the
    // implementations it hands out, which implement the store SPI of its own package; and the
    // sandbox SPI (dev.workgate.execution) returns and runs the handler types of dev.workgate,
    // whose runtime wires the execution package.
    slices()
        .matching("dev.(**)")
        .should()
        .beFreeOfCycles()
        .ignoreDependency(
            equivalentTo(Stores.class),
            resideInAnyPackage("dev.workgate.core.store.jdbc", "dev.workgate.core.store.memory"))
        .ignoreDependency(
            resideInAnyPackage("dev.workgate.execution"),
            equivalentTo(WorkResult.class)
                .or(equivalentTo(WorkHandler.class))
                .or(equivalentTo(WorkContext.class)))
        .check(LIBRARY);
  }

  @Test
  void internal_packages_are_used_only_by_the_runtime_that_wires_them() {
    noClasses()
        .that()
        .resideOutsideOfPackages("dev.workgate", "dev.workgate.internal..")
        .should()
        .dependOnClassesThat()
        .resideInAPackage("dev.workgate.internal..")
        .check(LIBRARY);
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
