package dev.workgate.core.internal.jdbc;

import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.lang.reflect.Proxy;
import java.sql.Connection;
import javax.sql.DataSource;

/**
 * A hook run before every call on the connections of a data source, for tests that watch or disturb
 * what a store does on its connections (count commits, hold or fail one, note the statements it
 * prepares). The hook gets the real connection, so it may run statements of its own on it, inside
 * the store's transaction.
 */
@FunctionalInterface
interface ConnectionHook {
  /**
   * Runs before the call; what it throws, the caller of the connection gets instead.
   *
   * @param connection the real connection
   * @param method the name of the method called on it
   * @param args its arguments, null for none
   */
  void before(Connection connection, String method, Object[] args) throws Throwable;

  /** The data source, with this hook on every connection it hands out. */
  default DataSource on(DataSource pool) {
    ClassLoader loader = ConnectionHook.class.getClassLoader();
    return (DataSource)
        Proxy.newProxyInstance(
            loader,
            new Class<?>[] {DataSource.class},
            (proxy, method, args) -> {
              Object result = invoke(pool, method, args);
              if (!method.getName().equals("getConnection")) {
                return result;
              }
              Connection c = (Connection) result;
              return Proxy.newProxyInstance(
                  loader,
                  new Class<?>[] {Connection.class},
                  (p, m, a) -> {
                    before(c, m.getName(), a);
                    return invoke(c, m, a);
                  });
            });
  }

  /** Calls the method, throwing what it threw rather than its reflective wrapper. */
  static Object invoke(Object target, Method method, Object[] args) throws Throwable {
    try {
      return method.invoke(target, args);
    } catch (InvocationTargetException e) {
      throw e.getCause();
    }
  }
}
