package dev.rivet.virtio.console;

/**
 * The multiport control protocol of VirtIO 1.2 section 5.3.6.2: every message starts with
 * {@code struct virtio_console_control { le32 id; le16 event; le16 value; }}; PORT_NAME is
 * followed by the name's UTF-8 bytes. Event numbers are those of Linux's
 * {@code include/uapi/linux/virtio_console.h}.
 */
final class ControlMessage {
    private ControlMessage() {
    }

    static final int HEADER_SIZE = 8;
    static final int OFF_ID = 0;
    static final int OFF_EVENT = 4;
    static final int OFF_VALUE = 6;

    /** Driver to device: the control queues are set up (value 1) or setting up failed (0). */
    static final int DEVICE_READY = 0;
    /** Device to driver: a port exists. */
    static final int DEVICE_ADD = 1;
    /** Device to driver: a port went away (hot-unplug; not sent by this device). */
    static final int DEVICE_REMOVE = 2;
    /** Driver to device: a port is set up (value 1) or could not be (0). */
    static final int PORT_READY = 3;
    /** Device to driver: the port is a console (Linux attaches it to hvc). */
    static final int CONSOLE_PORT = 4;
    /** Device to driver: console size (not sent: Linux and the spec disagree on the field order). */
    static final int RESIZE = 5;
    /** Both ways: the sender's end of the port is open (value 1) or closed (0). */
    static final int PORT_OPEN = 6;
    /** Device to driver: the port's name follows the header. */
    static final int PORT_NAME = 7;

    /** The port ID Linux puts in DEVICE_READY, which concerns no port. */
    static final long BAD_ID = 0xFFFF_FFFFL;

    static byte[] encode(int id, int event, int value) {
        return encode(id, event, value, null);
    }

    /** Header followed by {@code payload} (may be null). */
    static byte[] encode(int id, int event, int value, byte[] payload) {
        int extra = payload == null ? 0 : payload.length;
        byte[] m = new byte[HEADER_SIZE + extra];
        for (int i = 0; i < 4; i++) {
            m[OFF_ID + i] = (byte) (id >>> (8 * i));
        }
        m[OFF_EVENT] = (byte) event;
        m[OFF_EVENT + 1] = (byte) (event >>> 8);
        m[OFF_VALUE] = (byte) value;
        m[OFF_VALUE + 1] = (byte) (value >>> 8);
        if (extra > 0) {
            System.arraycopy(payload, 0, m, HEADER_SIZE, extra);
        }
        return m;
    }

    static long id(byte[] m) {
        return (m[0] & 0xFFL) | (m[1] & 0xFFL) << 8 | (m[2] & 0xFFL) << 16 | (m[3] & 0xFFL) << 24;
    }

    static int event(byte[] m) {
        return (m[OFF_EVENT] & 0xFF) | (m[OFF_EVENT + 1] & 0xFF) << 8;
    }

    static int value(byte[] m) {
        return (m[OFF_VALUE] & 0xFF) | (m[OFF_VALUE + 1] & 0xFF) << 8;
    }

    static String eventName(int event) {
        return switch (event) {
            case DEVICE_READY -> "DEVICE_READY";
            case DEVICE_ADD -> "DEVICE_ADD";
            case DEVICE_REMOVE -> "DEVICE_REMOVE";
            case PORT_READY -> "PORT_READY";
            case CONSOLE_PORT -> "CONSOLE_PORT";
            case RESIZE -> "RESIZE";
            case PORT_OPEN -> "PORT_OPEN";
            case PORT_NAME -> "PORT_NAME";
            default -> "event " + event;
        };
    }
}
