/** The cloud name of the embedded server (where staging goes), whatever port it runs on today. */
export const LOCAL_CLOUD = 'local';
