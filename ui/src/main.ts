import './lib/locale';
import { mount } from 'svelte';
import './app.css';
import App from './App.svelte';
import { pickBackend } from './lib/backend';

const app = mount(App, { target: document.getElementById('app')!, props: { backend: pickBackend() } });

export default app;
