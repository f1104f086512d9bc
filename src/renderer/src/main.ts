import { mount } from 'svelte';
import { createApi } from '../../shared/ipc/api-client';
import App from './App.svelte';
import './app.css';

const target = document.getElementById('app');
if (target === null) throw new Error('#app is missing from index.html');
mount(App, { target, props: { api: createApi(window.api) } });
