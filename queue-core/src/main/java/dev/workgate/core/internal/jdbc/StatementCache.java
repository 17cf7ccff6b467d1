package dev.workgate.core.internal.jdbc;

import java.lang.reflect.InvocationHandler;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.lang.reflect.Proxy;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Keeps a connection's prepared statements for reuse: SQLite parses a statement on every {@code
 * prepareStatement}, which is a large share of a small write's cost. {@link #wrap} returns a view
 * of the connection whose {@code prepareStatement(String)} hands out cached statements; closing one
 * clears its parameters and batch instead of closing it. At most {@code capacity} statements are
 * kept (least recently used are closed). For one thread at a time, like the connection.
 */
final class StatementCache {
  private StatementCache() {}

  static Connection wrap(Connection real, int capacity) {
    Map<String, PreparedStatement> cache =
        new LinkedHashMap<>(capacity * 2, 0.75f, true) {
          private static final long serialVersionUID = 1L;

          @Override
          protected boolean removeEldestEntry(Map.Entry<String, PreparedStatement> eldest) {
            if (size() <= capacity) {
              return false;
            }
            try {
              eldest.getValue().close();
            } catch (SQLException e) {
              // a statement that cannot close is gone with its connection
            }
            return true;
          }
        };
    InvocationHandler handler =
        (proxy, method, args) -> {
          if (method.getName().equals("prepareStatement")
              && args != null
              && args.length == 1
              && args[0] instanceof String sql) {
            PreparedStatement ps = cache.get(sql);
            if (ps == null || ps.isClosed()) {
              ps = real.prepareStatement(sql);
              cache.put(sql, ps);
            }
            return reusable(ps);
          }
          if (method.getName().equals("close") && (args == null || args.length == 0)) {
            for (PreparedStatement ps : cache.values()) {
              try {
                ps.close();
              } catch (SQLException e) {
                // closing the connection below releases it anyway
              }
            }
            cache.clear();
          }
          return invoke(real, method, args);
        };
    return (Connection)
        Proxy.newProxyInstance(
            StatementCache.class.getClassLoader(), new Class<?>[] {Connection.class}, handler);
  }

  private static PreparedStatement reusable(PreparedStatement ps) {
    InvocationHandler handler =
        (proxy, method, args) -> {
          if (method.getName().equals("close") && (args == null || args.length == 0)) {
            ps.clearParameters();
            ps.clearBatch();
            return null;
          }
          if (method.getName().equals("isClosed") && (args == null || args.length == 0)) {
            return false;
          }
          return invoke(ps, method, args);
        };
    return (PreparedStatement)
        Proxy.newProxyInstance(
            StatementCache.class.getClassLoader(),
            new Class<?>[] {PreparedStatement.class},
            handler);
  }

  private static Object invoke(Object target, Method method, Object[] args) throws Throwable {
    try {
      return method.invoke(target, args);
    } catch (InvocationTargetException e) {
      throw e.getCause();
    }
  }
}
